"""Running the program over many samples: sampling, record conversion, the append-only store, export, manifest."""
