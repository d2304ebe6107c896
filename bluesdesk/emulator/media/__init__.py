"""Real media for the emulator's relay: deterministic PNG images and decodable speech audio.

No HTTP here: `images` and `audio` turn parameters into bytes (and bytes back into text), so the
route modules stay thin and these can be tested on their own.
"""
