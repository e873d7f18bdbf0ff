"""rayqa.eval"""
