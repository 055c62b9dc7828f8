print("flashkvs-bench: not yet implemented")
