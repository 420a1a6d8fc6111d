"""What each page concludes, computed: sentences built from the numbers the page shows (no Streamlit).

`statements` holds the Parameter explorer's and Home's sentences (re-exported here, as pages call
`lessons.<name>`); `fig1` the Hidden states page's verdict on ALBERT's Fig. 1.
"""

from albertviz.lessons.statements import (
    ALBERT_STEPS,
    LABELS,
    STEP_NAMES,
    albert_choices_sentence,
    albert_steps,
    albert_steps_sentence,
    flops_help,
    projection_flops,
    reproduction_sentence,
    sharing_setting_sentence,
    size_gap_sentence,
    table_4_cost_sentence,
    zoo_training_sentence,
)

__all__ = ["ALBERT_STEPS", "LABELS", "STEP_NAMES", "albert_choices_sentence", "albert_steps", "albert_steps_sentence",
           "flops_help", "projection_flops", "reproduction_sentence", "sharing_setting_sentence", "size_gap_sentence",
           "table_4_cost_sentence", "zoo_training_sentence"]
