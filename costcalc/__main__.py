"""``python -m costcalc`` is the ``costcalc`` command."""
from costcalc.cli import main

if __name__ == "__main__":
    main()
