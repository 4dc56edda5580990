"""Search across all aggregated data: a derived tantivy index following the store's
change sequence, the analyst's query language, and the policy-filtered search service."""
