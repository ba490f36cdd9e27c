"""TensorFlow's start-up noise is silenced where there is no GPU; anything else it writes still shows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sentiment.core import quiet_tensorflow

NOISE_WORDS = ("cuInit", "oneDNN", "cuda drivers", "absl::InitializeLog")


def test_only_the_noise_is_dropped_from_what_is_written_meanwhile(capfd: pytest.CaptureFixture[str]) -> None:
    with quiet_tensorflow.filtered_stderr():
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to ")
        os.write(2, b"STDERR\n")
        os.write(2, b"I0000 00:00:1796158054.658315    6420 port.cc:153] oneDNN custom operations are on.\n")
        os.write(2, b"Traceback: something the user must see\n")
    assert capfd.readouterr().err == "Traceback: something the user must see\n"


def test_a_users_log_level_or_a_gpu_leaves_tensorflow_as_it_is(tmp_path: Path) -> None:
    assert quiet_tensorflow.quiet({"TF_CPP_MIN_LOG_LEVEL": "0"}) is False
    (tmp_path / "nvidia0").touch()
    assert quiet_tensorflow.has_gpu(tmp_path)
    assert not quiet_tensorflow.has_gpu(tmp_path / "nowhere")


@pytest.mark.skipif(quiet_tensorflow.has_gpu(), reason="a GPU machine keeps TensorFlow's messages")
def test_an_entry_point_starts_tensorflow_without_its_start_up_noise() -> None:
    environment = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    program = "import sentiment, tensorflow as tf; print(int(tf.constant(1) + 1))"
    quiet = subprocess.run([sys.executable, "-c", program], env=environment, capture_output=True, text=True)
    assert quiet.returncode == 0 and quiet.stdout.strip() == "2"
    assert not [word for word in NOISE_WORDS if word in quiet.stderr], quiet.stderr

    noisy = subprocess.run(  # the same start with the user's own log level: TensorFlow speaks
        [sys.executable, "-c", program], env={**environment, "TF_CPP_MIN_LOG_LEVEL": "0"},
        capture_output=True, text=True,
    )  # fmt: skip
    assert any(word in noisy.stderr for word in NOISE_WORDS)
