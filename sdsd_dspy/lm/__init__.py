"""Language models: the embedded llama.cpp model, any litellm model or a vLLM server, and the call ledger."""
