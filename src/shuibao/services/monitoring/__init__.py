"""Dynamic monitoring (动态监测, 规划第四章 / 专栏4-02): the CSLE run, the annual monitoring run, its inputs,
outputs, stored runs and their rasters for map tiles."""
