"""Token codecs: one module per encoding, each with its vocabulary layout and version."""

from chipline.encoding.polyphony import CODEC_NAME, CODEC_VERSION, VOCAB_SIZE

__all__ = ["CODEC_NAME", "CODEC_VERSION", "VOCAB_SIZE"]
