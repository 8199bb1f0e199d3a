import sys

from pipelines.reddit.cli import main

sys.exit(main())
