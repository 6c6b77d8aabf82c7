"""The instructor's course directory on the hub (adduser.sh copies it to ~/cnncourse).

It keeps every setting of the course's own ``course/nbgrader_config.py`` (installed read-only
under @PREFIX@/src) and changes only where things live: this directory holds source/,
release/, submitted/, ... and the gradebook (or CNNCOURSE_GRADEBOOK_URL names a database, e.g.
``postgresql://user:password@host/cnncourse``), and releases go to the shared exchange.
"""

import os
from pathlib import Path

c = get_config()  # noqa: F821  (injected by traitlets when it executes this file)
load_subconfig("@PREFIX@/src/course/nbgrader_config.py")  # noqa: F821

HERE = Path(__file__).resolve().parent
c.CourseDirectory.root = str(HERE)
c.CourseDirectory.db_url = os.environ.get("CNNCOURSE_GRADEBOOK_URL") or f"sqlite:///{HERE / 'gradebook.db'}"
c.Exchange.root = "@EXCHANGE@"
