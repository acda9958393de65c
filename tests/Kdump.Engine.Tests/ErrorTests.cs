using Kdump.Engine.Dump;

namespace Kdump.Engine.Tests;

public class ErrorTests
{
    [Theory]
    [InlineData(PageStatus.Excluded, "PageExcluded")]
    [InlineData(PageStatus.NotInDump, "PageNotInDump")]
    [InlineData(PageStatus.Lost, "PageLost")]
    [InlineData(PageStatus.Corrupt, "PageCorrupt")]
    public void MemoryFaultCarriesIdAndAddress(PageStatus status, string id)
    {
        var ex = new MemoryFaultException(0x1234000, status);
        Assert.Equal(id, ex.ErrorId);
        Assert.Equal(0x1234000UL, ex.Address);
        Assert.Contains("0x1234000", ex.Message);
    }
}
