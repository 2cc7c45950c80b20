import subprocess
import sys
from pathlib import Path


def test_demo_creates_the_scenario1_campaign_through_the_simulator(tmp_path):
    exe = Path(sys.executable).with_name("socap")
    proc = subprocess.run([str(exe), "demo"], capture_output=True, text=True, cwd=tmp_path, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    assert "12 poll jobs" in proc.stdout
    assert "Product Launch Q1 2025" in proc.stdout
    assert (tmp_path / "var" / "demo.db").exists()
