import re
import subprocess
import sys
from pathlib import Path


def test_demo_creates_the_scenario1_campaign_through_the_simulator(tmp_path):
    exe = Path(sys.executable).with_name("socap")
    proc = subprocess.run([str(exe), "demo", "--speed", "8000", "--web-port", "0"], capture_output=True, text=True,
                          cwd=tmp_path, timeout=240, env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    assert "12 poll jobs" in proc.stdout
    dashboard = re.search(r"Dashboard: (http://127\.0\.0\.1:\d+)/ +sign in as demo@socap\.local / socap-demo",
                          proc.stdout)
    assert dashboard
    # the completion alert links to the report on the dashboard really serving (the port was chosen free)
    assert f"Report: {dashboard.group(1)}/campaigns/1/report" in proc.stdout
    assert "Product Launch Q1 2025" in proc.stdout
    # every run is printed (when the first one starts depends on how busy the machine is: at 8000x a real
    # second is two virtual hours, so only its existence is checked), and the end equals the scenario's truth
    assert re.search(r"D\d \d\d:\d\d  Product Launch Q1 2025: run 1 — (\+\d+ new|no new engagements)", proc.stdout)
    # the end of the output in the message: pytest cuts a long compared string in the middle, where this is
    assert "completed: 120 engagements (12 quotes, 23 replies, 85 retweets) by 95 unique accounts; 1,500 likes" \
        in " ".join(proc.stdout.split()), proc.stdout[-2000:]
    assert (tmp_path / "var" / "demo" / "socap.db").exists()
    report = tmp_path / "var" / "demo" / "report.html"
    assert f"Final report: {report}" in " ".join(proc.stdout.split()) and "Final report" in report.read_text()
