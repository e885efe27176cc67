"""What the page holds and runs, without Gradio: the model holder and GPU streams
(`runtime`), a job in a worker thread (`jobs`), the visible line (`turns`) with its cancel
flags (`line`), the bounded output store (`store`), per-session values (`session`, `undo`),
the render's step counter (`progress`) and the comparison as a stream (`compare_job`).

`direct2v.ui` lays out the page on top of these; nothing here imports Gradio or `direct2v.ui`
(tests/test_package_shape.py checks), so the CLI and tests can use them too."""
