"""The demo and its SYNTHETIC generators (演示数据): a city that looks like Chongqing over the real district
boundaries, supervision and governance records, change-detection scenes — labelled synthetic everywhere.

Outside the services on purpose: the demo calls the services like any other user."""
