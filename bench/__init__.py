"""Side-by-side benchmark of the rendered FastAPI backend against Parse Server (run with bench/run)."""
