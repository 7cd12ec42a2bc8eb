"""AI core: embeddings, ICP search and the offline engine."""
