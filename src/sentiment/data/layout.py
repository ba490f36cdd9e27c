"""The aclImdb layout the readers accept and the shape of the raw table they make.

The official archive holds labeled reviews, `aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt` (rating
1-10), and unlabeled ones, `aclImdb/train/unsup/<id>_0.txt` (rating 0), each folder with a URL list
`aclImdb/<split>/urls_<folder>.txt` naming each review's movie. The raw table has one row per review:

- `review_id`: the review's folder below `aclImdb/` and its id, "train/pos/1234" or "train/unsup/77";
- `text`: the file's text, as it is;
- `label`: 1 (pos) or 0 (neg); `UNLABELED` (-1, no label) for an unlabeled review;
- `rating`: the file name's 1-10; 0 for an unlabeled review;
- `split`: "train" or "test" (the labeled splits; validation is drawn from train later), or `UNSUP`
  ("unsup") for an unlabeled review: never trained on, validated or tested with, only read as text
  (pretraining), `checks.parts` keeps it out of every labeled part;
- `movie`: the IMDB title id ("tt0453418"), null where the folder has no URL list.

Constants only, so that the readers, the synthetic generator and the checks share one definition.
"""

from __future__ import annotations

COLUMNS = ("review_id", "text", "label", "rating", "split", "movie")
# An optional column, from the synthetic generator only: how many words from the end of the review its
# verdict is (1: the last word), null for an unlabeled review. The archive readers do not write it.
DISTANCE_COLUMN = "verdict_distance"
ARCHIVE_SPLITS = ("train", "test")  # the labeled splits (validation is drawn from train later)
UNSUP = "unsup"  # the `split` of an unlabeled review (the archive's train/unsup folder)
TABLE_SPLITS = (*ARCHIVE_SPLITS, UNSUP)  # every value of the `split` column
LABELS = {"neg": 0, "pos": 1}
UNLABELED = -1  # the `label` of an unlabeled review: no label
RATINGS = range(1, 11)  # a labeled review's rating
UNLABELED_RATING = 0  # an unlabeled review's rating (its file name's `_0`)

# The folders holding reviews, as (split folder, review folder): each has its URL list
# `<split folder>/urls_<review folder>.txt`. Reviews of train/unsup get split UNSUP.
UNSUP_FOLDER = ("train", UNSUP)
REVIEW_FOLDERS = (
    *((split, sentiment) for split in ARCHIVE_SPLITS for sentiment in LABELS),
    UNSUP_FOLDER,
)
