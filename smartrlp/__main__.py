from smartrlp.cli import main

raise SystemExit(main())
