"""A method in one file: a spec kind, a runner and one `register_method` call. Importing
this module registers it; `ticketlab.run(ToySpec(...))` then runs it, and the command
line has `ticketlab toy` with flags made from the spec's fields and no CLI code of its own.

It trains nothing: its result reports the settings it was given, so that a test sees what
the command line made of a line.
"""
from dataclasses import dataclass
from typing import ClassVar

from ticketlab.methods import Method, register_method
from ticketlab.specs import Spec, TrainSpec
from ticketlab.specs.fields import setting


@dataclass(frozen=True)
class ToySpec(Spec):
    kind: ClassVar[str] = "toy"
    train: TrainSpec = setting(help="the training it would do")
    my_flag: int = setting(1, help="a number its result reports")
    words: tuple[str, ...] = setting((), help="words its result reports")


def run_toy(spec: ToySpec, run, ctx) -> dict:
    train = spec.train
    return {"metrics": {"my_flag": spec.my_flag, "words": ",".join(spec.words), "seed": train.seed,
                        "duration": train.duration, "steps": train.steps(train.duration)}}


register_method(Method("toy", ToySpec, run_toy, help="a toy method: trains nothing, reports its settings"))
