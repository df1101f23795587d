"""Text-level information gain filtration: a learner that reads a context's text, not a base model's token
ids, so one learner works next to any base model. Hashed word and character n-grams (`features`), a ridge
head over them (`head`), the build from a labelling model's measured gains (`build`) and the learner
(`learner`). The kind `igf_text` is registered in `learners.kinds` (by import path: nothing here is
imported until a learner of this kind is loaded or built)."""
