"""rayqa.serve"""
