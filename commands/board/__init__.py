"""The board (一屏知全局): every feature's section for one person, in chat, in a briefing, on the web."""
