"""The talent registry (人才库, 一人一档): one record per person."""
