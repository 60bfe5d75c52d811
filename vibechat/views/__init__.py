"""The pages and forms people use: one blueprint per area. Views never import each
other; what several of them ask first lives in `vibechat.views.base`."""
