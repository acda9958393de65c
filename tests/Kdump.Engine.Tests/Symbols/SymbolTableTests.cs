using Kdump.Engine.Symbols;

namespace Kdump.Engine.Tests.Symbols;

public class SymbolTableTests
{
    [Fact]
    public void SystemMapIsShiftedByKaslrOffset()
    {
        var map = "0000000000000000 D fixed_percpu_data\nffffffff81000000 T _text\nffffffff81000000 T startup_64\nffffffff82a0c000 D init_task\nffffffff83000000 B _end\n";
        var t = SystemMap.Load(new StringReader(map), 0x1e000000, "test");
        Assert.Equal(0xffffffff9f000000UL, t.FindByName("_text")!.Address);
        Assert.Equal(0UL, t.FindByName("fixed_percpu_data")!.Address);
        Assert.Equal("init_task", t.FindByAddress(0xffffffffa0a0c100UL)!.Value.Symbol.Name);
        Assert.Equal(0x100UL, t.FindByAddress(0xffffffffa0a0c100UL)!.Value.Offset);
    }

    [Fact]
    public void GarbageIsNotASystemMap()
    {
        var ex = Assert.Throws<KdumpException>(() => SystemMap.Load(new StringReader(string.Join("\n", Enumerable.Repeat("hello world", 40))), 0, "junk"));
        Assert.Equal("SystemMapInvalid", ex.ErrorId);
    }

    [Fact]
    public void SizedSymbolsBoundAddressLookup()
    {
        var b = new SymbolTableBuilder();
        b.Add("a", 0x1000, 'T', 0x10);
        b.Add("b", 0x2000, 'T', 0x10);
        var t = b.Build("t");
        Assert.Equal("a", t.FindByAddress(0x100f)!.Value.Symbol.Name);
        Assert.Null(t.FindByAddress(0x1010));
        Assert.Equal(0x10UL, t.FindByName("a")!.Size);
    }

    [Fact]
    public void ChainFallsThroughInOrder()
    {
        var b1 = new SymbolTableBuilder(); b1.Add("x", 0x1000, 'T');
        var b2 = new SymbolTableBuilder(); b2.Add("x", 0x2000, 'T'); b2.Add("y", 0x3000, 'D');
        var chain = new SymbolFinderChain(new ISymbolFinder[] { b1.Build("first"), b2.Build("second") });
        Assert.Equal(0x1000UL, chain.FindByName("x")!.Address);
        Assert.Equal(0x3000UL, chain.FindByName("y")!.Address);
        Assert.Null(chain.FindByName("z"));
        Assert.Equal(3, chain.Enumerate().Count());
    }
}
