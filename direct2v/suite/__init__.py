"""Prompt suites: direct, render and score many items on many processes (Hugging Face
Accelerate), resumably, and report the paper's Table 1 over them with 95% intervals.

    python -m direct2v suite prompts.txt --out-dir results/ [render and director flags]
    accelerate launch --num_processes 4 -m direct2v suite prompts.txt --out-dir results/

items.py (suite files, item keys), runner.py (processes, resumable item folders),
slots.py (polite API concurrency), stats.py (t-intervals), report.py (tables, plots,
contact sheet), cli.py (the command). Scoring and per-item comparison reuse
direct2v.evaluate.
"""
