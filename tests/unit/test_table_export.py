"""Tables sent as Arrow once (ui.export.sendable) still download as the CSV of the numbers they show."""

import io

import pandas as pd
import pytest

from albertviz_app.ui.export import sendable, to_csv


@pytest.mark.parametrize("index", [False, True])
def test_a_sendable_table_downloads_the_same_csv_as_its_frame(index):
    frame = pd.DataFrame({"full": [12.1, 89.3], "hashed": [1.25, 7.5]},
                         index=pd.Index(["all", "none"], name="sharing"))
    if not index:
        frame = frame.reset_index()
    assert to_csv(sendable(frame), index=index) == to_csv(frame, index=index)
    back = pd.read_csv(io.StringIO(to_csv(sendable(frame), index=index)), index_col=0 if index else None)
    pd.testing.assert_frame_equal(back, frame)
