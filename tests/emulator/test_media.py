"""The emulator's media primitives on their own: PNG drawing, speech encoding, reading it back."""

from __future__ import annotations

import io
import struct
import wave

import pytest
from PIL import Image

from bluesdesk.emulator.media import audio, images

# --- images ----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(256, 256), (512, 512), (1024, 1024), (1792, 1024), (1024, 1536)])
def test_generated_png_has_the_requested_size(size: tuple[int, int]) -> None:
    data = images.generate("A serene mountain at dawn", size)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "PNG"
        assert img.size == size


def test_images_are_deterministic_and_differ_by_prompt_and_index() -> None:
    first = images.generate("a red fox", (256, 256))
    assert images.generate("a red fox", (256, 256)) == first
    assert images.generate("a blue whale", (256, 256)) != first
    assert images.generate("a red fox", (256, 256), index=1) != first


def test_other_output_formats_decode() -> None:
    for fmt, pil_name in (("jpeg", "JPEG"), ("webp", "WEBP")):
        with Image.open(io.BytesIO(images.generate("x", (256, 256), output_format=fmt))) as img:
            assert (img.format, img.size) == (pil_name, (256, 256))


@pytest.mark.parametrize("size", ["1000x1000", "big", "1024", "0x0", "-1x5"])
def test_bad_sizes_are_refused(size: str) -> None:
    with pytest.raises(images.ImageInputError, match="Invalid size"):
        images.parse_size(size)


def test_auto_size_is_the_default() -> None:
    assert images.parse_size("auto") == images.parse_size(None) == (1024, 1024)


def _png(size: tuple[int, int], colour: tuple[int, int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", size, colour).save(buf, "PNG")
    return buf.getvalue()


def test_edit_repaints_only_the_transparent_mask_area() -> None:
    source = _png((256, 256), (10, 20, 30, 255))
    mask_img = Image.new("RGBA", (256, 256), (0, 0, 0, 255))
    mask_img.paste((0, 0, 0, 0), (0, 0, 128, 256))  # left half transparent: edit there
    buf = io.BytesIO()
    mask_img.save(buf, "PNG")
    out = Image.open(io.BytesIO(images.edit(source, "paint a sun", mask=buf.getvalue())))
    assert out.size == (256, 256)
    assert out.convert("RGB").getpixel((200, 20)) == (10, 20, 30)  # kept
    assert out.convert("RGB").getpixel((20, 20)) != (10, 20, 30)  # repainted


def test_edit_resizes_to_the_requested_size() -> None:
    out = images.edit(_png((256, 256), (1, 2, 3, 0)), "anything", size=(512, 512))
    assert Image.open(io.BytesIO(out)).size == (512, 512)


def test_edit_rejects_a_mask_of_another_size() -> None:
    with pytest.raises(images.ImageInputError, match="does not match"):
        images.edit(_png((256, 256), (0, 0, 0, 255)), "p", mask=_png((512, 512), (0, 0, 0, 0)))


def test_edit_rejects_something_that_is_not_an_image() -> None:
    with pytest.raises(images.ImageInputError, match="not a valid image"):
        images.edit(b"hello", "p")


# --- audio -----------------------------------------------------------------------------------

TEXT = "Hello from BluesMinds. Ünïcödé survives too!"


def test_wav_is_decodable_and_lasts_as_long_as_the_text_needs() -> None:
    data = audio.encode_wav(audio.synthesize(TEXT, "alloy"), TEXT)
    with wave.open(io.BytesIO(data)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 24_000)
        seconds = w.getnframes() / w.getframerate()
    assert seconds == pytest.approx(audio.duration_for(TEXT))
    # About twelve characters a second.
    assert len(TEXT) / 14 < seconds < len(TEXT) / 10


def test_duration_grows_with_text_and_shrinks_with_speed() -> None:
    short, long_ = audio.synthesize("Hi there.", "echo"), audio.synthesize("Hi there. " * 5, "echo")
    assert len(long_) > 4 * len(short)
    fast = audio.synthesize("Hi there.", "echo", speed=2.0)
    assert len(fast) == pytest.approx(len(short) / 2, rel=0.01)


def test_pcm_is_not_silent() -> None:
    pcm = audio.synthesize("abc", "nova")
    peak = max(abs(v) for v in struct.unpack(f"<{len(pcm) // 2}h", pcm))
    assert peak > 5000


def test_unknown_voice_and_bad_speed_are_refused() -> None:
    with pytest.raises(audio.AudioInputError, match="voice"):
        audio.synthesize("x", "robot")
    with pytest.raises(audio.AudioInputError, match="speed"):
        audio.synthesize("x", "alloy", speed=5)


def test_mp3_has_an_id3_tag_then_valid_frames() -> None:
    data = audio.encode_mp3(audio.synthesize(TEXT, "fable"), TEXT)
    assert data[:3] == b"ID3"
    tag_end = 10 + ((data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9])
    assert data[tag_end] == 0xFF and data[tag_end + 1] & 0xE0 == 0xE0  # frame sync
    frames, seconds = audio.mp3_frames(data, tag_end)
    assert frames > 10
    assert seconds == pytest.approx(audio.duration_for(TEXT), abs=0.2)


def test_mp3_duration_grows_with_text() -> None:
    short = audio.probe(audio.encode_mp3(audio.synthesize("One.", "onyx"), "One."))
    text = "One. Two. Three. Four."
    long_ = audio.probe(audio.encode_mp3(audio.synthesize(text, "onyx"), text))
    assert short.duration_s is not None and long_.duration_s is not None
    assert long_.duration_s > 3 * short.duration_s


@pytest.mark.parametrize("fmt", ["wav", "mp3"])
def test_embedded_text_round_trips(fmt: str) -> None:
    data = audio.encode(audio.synthesize(TEXT, "shimmer"), TEXT, fmt)
    result = audio.transcribe(data)
    assert (result.text, result.source) == (TEXT, "embedded")
    assert result.duration_s == pytest.approx(audio.duration_for(TEXT), abs=0.2)


def test_embedded_text_survives_a_rewrite_of_the_audio_data() -> None:
    # A re-encode that keeps the metadata (same tag, different frames) keeps the text.
    one = audio.encode_mp3(audio.synthesize(TEXT, "alloy"), TEXT)
    other = audio.encode_mp3(audio.synthesize(TEXT, "onyx", speed=1.5), TEXT)
    assert one != other
    assert audio.transcribe(other).text == TEXT


def test_raw_pcm_round_trips_through_the_registry_only() -> None:
    pcm = audio.synthesize(TEXT, "alloy")
    registry = audio.TranscriptRegistry()
    assert audio.transcribe(pcm, registry).source == "placeholder"
    registry.remember(pcm, TEXT)
    assert audio.transcribe(pcm, registry) == audio.Transcript(
        TEXT, round(audio.duration_for(TEXT), 3), "registry"
    )


def test_registry_is_bounded() -> None:
    registry = audio.TranscriptRegistry(capacity=2)
    for i in range(3):
        registry.remember(bytes([i]), str(i))
    assert registry.lookup(b"\x00") is None
    assert registry.lookup(b"\x02") == "2"


def test_foreign_wav_gets_a_placeholder_with_its_measured_duration() -> None:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(16_000)
        w.writeframes(bytes(4 * 16_000 * 3))  # three seconds of stereo silence
    result = audio.transcribe(buf.getvalue())
    assert result.source == "placeholder"
    assert result.duration_s == pytest.approx(3.0)
    assert "3.0 seconds" in result.text


def test_a_foreign_comment_is_not_taken_for_a_transcript() -> None:
    # Only files our encoder tagged are trusted; someone else's ICMT is just a comment.
    data = audio.encode_wav(audio.synthesize("secret", "alloy"), "secret")
    foreign = data.replace(audio.SOFTWARE_TAG.encode(), b"x" * len(audio.SOFTWARE_TAG))
    assert audio.transcribe(foreign).source == "placeholder"


def test_unknown_bytes_get_a_stable_placeholder() -> None:
    first = audio.transcribe(b"OggS" + bytes(48_000))
    assert first == audio.transcribe(b"OggS" + bytes(48_000))
    assert first.source == "placeholder" and "seconds of audio" in first.text


def test_unsupported_formats_get_a_clear_message() -> None:
    with pytest.raises(audio.AudioInputError, match="'opus' is not supported"):
        audio.encode(b"", "x", "opus")
