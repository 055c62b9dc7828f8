print("flashkvs: not yet implemented")
