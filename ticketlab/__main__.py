import sys

from .cli.main import main
from .core.ranks import quiet_other_ranks

quiet_other_ranks()  # under torchrun, only rank 0 prints results
sys.exit(main())
