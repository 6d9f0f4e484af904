print("gui-agent")
