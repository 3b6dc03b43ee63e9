"""Regenerate tiny.ipynb, the runner's test notebook (python tests/report/data/make_tiny.py)."""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

cells = [
    new_markdown_cell("# Tiny report\nA test notebook for the runner."),
    new_code_cell('incident = ""\nrun_dir = "."\ngreeting = "hello"\nfail = False', metadata={"tags": ["parameters"]}),
    new_code_cell("import json, pathlib\nprint(f'{greeting} from {incident}')"),
    new_code_cell("if fail:\n    raise ValueError('the tiny notebook was told to fail')"),
    new_code_cell("pathlib.Path(run_dir, 'tiny.json').write_text(json.dumps({'greeting': greeting}))"),
]
nb = new_notebook(cells=cells, metadata={
    "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
    "language_info": {"name": "python"},
})
nbformat.write(nb, Path(__file__).with_name("tiny.ipynb"))
