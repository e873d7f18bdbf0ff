"""rayqa.data"""
