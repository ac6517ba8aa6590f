"""``python -m rnn_studio``: same as the ``rnn-studio`` command."""

from rnn_studio.cli import main

raise SystemExit(main())
