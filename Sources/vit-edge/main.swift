import VitEdge
print(Kernels.cpuFeatures)
