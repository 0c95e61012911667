"""Imported first by every worker process (the fork server's preload): quiets one spurious notice.

``python -m sim.compare`` (or ``sim.sweep``) runs a module the workers also preload; when a
worker re-creates the parent's ``__main__`` from that module's name, ``runpy`` warns that the
module was already imported. Nothing is unpredictable here (the preloaded module and the main
one are the same file), so the notice is filtered in the workers only.
"""

import warnings

warnings.filterwarnings("ignore", message=r".*found in sys\.modules after import of package.*",
                        category=RuntimeWarning)
