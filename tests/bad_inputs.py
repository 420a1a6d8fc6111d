"""The hostile text every text box must survive (shared by the AppTest and the browser bad-input suites)."""

LONG = ("lorem ipsum dolor " * 600)[:10_000]
BAD_INPUTS = {
    "empty": "",
    "whitespace": " \t   \u3000 ",
    "10000 characters": LONG,
    "emoji": "The 🐱 sat on the 🧶 mat 😀👍🏽🏳️‍🌈",
    "right-to-left": "مرحبا بالعالم — שלום עולם",
    "zero-width and control": "ze\u200bro\u200d wi\u2060dth\ufeff and \x00\x07\x1b[31mcontrol\x7f chars",
    "script tag": "<script>alert(1)</script>",
    "img onerror": "<img src=x onerror=alert(1)>",
    "template": "{{7*7}}",
}
BLANK = {"empty", "whitespace"}
INJECTIONS = {"script tag", "img onerror", "template"}
