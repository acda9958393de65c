using Kdump.Engine.Dump;
using Kdump.Engine.Tests.Writers;

namespace Kdump.Engine.Tests.Dump;

internal static class TestDumps
{
    public static DumpFile Open(byte[] bytes, string name = "dump", bool force = false, EngineHost? host = null, bool recover = true) =>
        DumpFile.Open(SyntheticMemory.WriteTemp(name, bytes), new DumpOpenOptions { Force = force, RecoverVmcoreInfo = recover }, host);

    public static KdumpException OpenFails(byte[] bytes, string name = "dump", bool force = false)
    {
        var path = SyntheticMemory.WriteTemp(name, bytes);
        var ex = Assert.ThrowsAny<KdumpException>(() => DumpFile.Open(path, new DumpOpenOptions { Force = force }));
        Assert.Contains(path, ex.Message);
        return ex;
    }

    public static byte[] ReadPage(DumpFile d, ulong pfn, out PageStatus st)
    {
        var b = new byte[d.PageSize];
        st = d.ReadPage(pfn, b);
        return b;
    }

    public static (List<string> warnings, EngineHost host) CapturingHost()
    {
        var w = new List<string>();
        return (w, new EngineHost { Warning = s => { lock (w) w.Add(s); } });
    }
}
