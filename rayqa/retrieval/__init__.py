"""rayqa.retrieval"""
