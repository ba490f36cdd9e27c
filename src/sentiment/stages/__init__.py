"""The pipeline stages: one function per stage, the only layer that joins the lower layers to files.

`dvc.yaml` runs the stages through the CLI (`sentiment stage NAME`) and the Prefect flows call them
through `sentiment.orchestration`, both by name from one table (`stages.table`), so both orchestrators
run exactly the same code. Each stage reads its inputs from the workspace's paths (`config.workspace`)
and writes its outputs atomically. The package imports nothing itself, so a stage's process imports
only the modules of its own stage (which dvc.yaml lists as its code dependencies).
"""
