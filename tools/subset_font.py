#!/usr/bin/env python3
"""Makes assets/fonts/wqy-microhei-gb2312.ttf: WenQuanYi Micro Hei cut to GB2312, ASCII,
common punctuation, and every character of the demo data and the app's own strings.

Needs fonttools (pip install fonttools) and Debian's fonts-wqy-microhei.
    python3 tools/subset_font.py
"""
import glob
import os
import subprocess

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.join(here, "..")
chars = set(chr(c) for c in range(0x20, 0x7F))
chars |= set("，。、；：？！“”‘’（）《》【】—…·×≥≤±°％～０１２３４５６７８９²³")
for hi in range(0xA1, 0xF8):
    for lo in range(0xA1, 0xFF):
        try:
            chars |= set(bytes([hi, lo]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
files = glob.glob(os.path.join(root, "maps", "**", "*.geojson"), recursive=True)
files += glob.glob(os.path.join(root, "maps", "**", "*.csv"), recursive=True)
files += glob.glob(os.path.join(root, "maps", "**", "*.toml"), recursive=True)
files += glob.glob(os.path.join(root, "src", "**", "*.rs"), recursive=True)
files += glob.glob(os.path.join(root, "assets", "**", "*.toml"), recursive=True)
for f in files:
    with open(f, encoding="utf-8") as fh:
        chars |= set(fh.read())
chars = sorted(c for c in chars if ord(c) >= 0x20)
text = os.path.join(root, "target", "font-chars.txt")
os.makedirs(os.path.dirname(text), exist_ok=True)
with open(text, "w", encoding="utf-8") as fh:
    fh.write("".join(chars))
out = os.path.join(root, "assets", "fonts", "wqy-microhei-gb2312.ttf")
subprocess.run(["pyftsubset", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "--font-number=0",
                f"--text-file={text}", f"--output-file={out}", "--layout-features=*", "--no-hinting"], check=True)
print(out, os.path.getsize(out), "bytes,", len(chars), "characters")
