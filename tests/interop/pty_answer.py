#!/usr/bin/env python3
"""pty_answer.py ARGV...: runs ARGV on a terminal of its own and answers
its prompts: "PIN for" with $PIN, "Passphrase for" with $PASS, each once,
as a user at the keyboard would: once the prompt is out and echo is off
(certmint turns echo off with TCSAFLUSH, which drops what was typed
before).  Prints what the program wrote; exits with its status (99 when
it did not exit, 98 after 30 s)."""
import os
import pty
import select
import sys
import termios
import time


def echo_off(fd, wait=5.0):
    """Waits until the terminal's echo is off (the program reads a
    secret), at most wait seconds."""
    end = time.time() + wait
    while time.time() < end:
        if not termios.tcgetattr(fd)[3] & termios.ECHO:
            return
        time.sleep(0.01)

pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
answers = {b"PIN for": os.environ.get("PIN", ""),
           b"Passphrase for": os.environ.get("PASS", "")}
out, done = b"", set()
deadline = time.time() + 30
while time.time() < deadline:
    ready, _, _ = select.select([fd], [], [], 0.2)
    if ready:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
    for prompt, answer in answers.items():
        if prompt not in done and prompt in out:
            done.add(prompt)
            echo_off(fd)
            os.write(fd, answer.encode() + b"\n")
else:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    sys.stdout.write(out.decode(errors="replace"))
    sys.exit(98)
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 99)
