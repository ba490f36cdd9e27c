import time, numpy as np, pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
t = pd.read_parquet("/tmp/imdbws/data/clean/reviews.parquet")
s = np.load("/tmp/imdbws512/data/sequences/sequences.npz")
byid = t.set_index("review_id")["text"]
tr = byid.reindex(s["ids_train"]).tolist(); te = byid.reindex(s["ids_test"]).tolist(); va = byid.reindex(s["ids_validation"]).tolist()
ytr, yte, yva = s["y_train"], s["y_test"], s["y_validation"]
for sub, min_df, C in [(True, 2, 1.0), (True, 2, 4.0), (False, 2, 4.0), (True, 2, 10.0), (True, 1, 10.0)]:
    start = time.time()
    v = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=sub, min_df=min_df, token_pattern=r"\S+")
    m = LogisticRegression(max_iter=1000, C=C).fit(v.fit_transform(tr), ytr)
    acc = (m.predict(v.transform(te)) == yte).mean(); vacc = (m.predict(v.transform(va)) == yva).mean()
    print(sub, min_df, C, f"val={vacc:.4f} test={acc:.4f}", f"{time.time()-start:.0f}s", flush=True)
