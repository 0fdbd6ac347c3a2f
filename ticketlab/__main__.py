import sys

from .cli import main
from .scale.distributed import quiet_other_ranks

quiet_other_ranks()  # under torchrun, only rank 0 prints results
sys.exit(main())
