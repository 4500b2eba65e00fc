import gc
import sys

from tracker.memory import cycle_collection_paused

# Loading pandas and SQLAlchemy creates several hundred thousand objects, and the cycle collector's
# passes over them cost a tenth of start-up. They live as long as the process, so once loaded they are
# frozen: later collections (in a long export, say) need not scan them again.
with cycle_collection_paused():
    from tracker.cli import main
gc.freeze()

sys.exit(main())
