from vizgen.cli import main

raise SystemExit(main())
