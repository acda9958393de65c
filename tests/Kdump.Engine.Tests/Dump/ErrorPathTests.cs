using System.Buffers.Binary;
using Kdump.Engine.Dump;
using Kdump.Engine.Tests.Writers;

namespace Kdump.Engine.Tests.Dump;

public class ErrorPathTests
{
    [Fact]
    public void EmptyFile() => Assert.Equal("VmcoreEmpty", TestDumps.OpenFails(Array.Empty<byte>()).ErrorId);

    [Theory]
    [InlineData(new byte[] { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0 }, "gzip")]
    [InlineData(new byte[] { (byte)'h', (byte)'e', (byte)'l', (byte)'l', (byte)'o', (byte)' ', (byte)'w', (byte)'o', (byte)'r', (byte)'l', (byte)'d' }, "no known magic")]
    [InlineData(new byte[] { 1, 2, 3 }, "3 bytes")]
    public void NotADump(byte[] bytes, string hint)
    {
        var ex = TestDumps.OpenFails(bytes);
        Assert.Equal("VmcoreFormatUnknown", ex.ErrorId);
        Assert.Contains(hint, ex.Message);
    }

    [Fact]
    public void ElfExecutableIsNotADump()
    {
        var b = new ElfVmcoreWriter().Build();
        b[16] = 2; // ET_EXEC
        var ex = TestDumps.OpenFails(b);
        Assert.Equal("VmcoreFormatUnknown", ex.ErrorId);
        Assert.Contains("vmlinux", ex.Message);
    }

    [Fact]
    public void TruncatedKdumpHeader()
    {
        var b = new KdumpCompressedWriter().Build()[..300];
        Assert.Equal("VmcoreTruncated", TestDumps.OpenFails(b).ErrorId);
    }

    [Theory]
    [InlineData(428, 1000, "block_size")]
    [InlineData(436, 0, "bitmap_blocks")]
    [InlineData(436, 1, "bitmap_blocks")]
    [InlineData(436, 100000, "bitmap_blocks")]
    public void HeaderFieldsContradictingTheFile(int offset, int value, string field)
    {
        var b = new KdumpCompressedWriter().Build();
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(offset), value);
        var ex = TestDumps.OpenFails(b);
        Assert.Equal("VmcoreCorrupt", ex.ErrorId);
        Assert.Contains($"'{field}'", ex.Message);
    }

    [Fact]
    public void MaxMapnrBeyondLimitIsRefused()
    {
        var b = new KdumpCompressedWriter().Build();
        BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(4096 + 96), long.MaxValue);
        var ex = TestDumps.OpenFails(b);
        Assert.Equal("VmcoreLimitExceeded", ex.ErrorId);
        Assert.Contains("max_mapnr_64", ex.Message);
    }

    [Fact]
    public void DescriptorsPastEndOfFile()
    {
        var full = new KdumpCompressedWriter { Compression = DumpCompression.None }.Build();
        // Keep header, sub-header and bitmaps (4 blocks) plus a few descriptors.
        var b = full[..(4 * 4096 + 100)];
        var ex = TestDumps.OpenFails(b);
        Assert.Equal("VmcoreCorrupt", ex.ErrorId);
        Assert.Contains("page descriptors", ex.Message);
        using var d = TestDumps.Open(b, force: true);
        Assert.True(d.Incomplete);
        Assert.Equal(PageStatus.Lost, d.ReadPage(100, new byte[4096]));
    }

    [Fact]
    public void NoteAreaOutsideFile()
    {
        var b = new KdumpCompressedWriter().Build();
        BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(4096 + 48), 1L << 40);
        var ex = TestDumps.OpenFails(b);
        Assert.Equal("VmcoreCorrupt", ex.ErrorId);
        Assert.Contains("offset_note", ex.Message);
    }

    [Fact]
    public void ElfProgramHeadersPastEnd()
    {
        var b = new ElfVmcoreWriter().AddRam(0, 0x1000).Build();
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(56), 60000);
        var ex = TestDumps.OpenFails(b);
        Assert.Equal("VmcoreCorrupt", ex.ErrorId);
        Assert.Contains("e_phoff", ex.Message);
    }

    [Fact]
    public void RandomGarbageAfterValidMagicNeverThrowsRawExceptions()
    {
        var rng = new Random(7);
        var good = new KdumpCompressedWriter { Compression = DumpCompression.Lzo }.Build();
        var elf = new ElfVmcoreWriter().AddVmcoreInfo("OSRELEASE=x\n").AddRam(0, 0x4000).Build();
        for (int i = 0; i < 150; i++)
        {
            var src = i % 2 == 0 ? good : elf;
            var b = (byte[])src.Clone();
            for (int k = 0; k < 8; k++) b[8 + rng.Next(Math.Min(b.Length - 8, 5000))] = (byte)rng.Next(256);
            var path = SyntheticMemory.WriteTemp("fuzz", b);
            try
            {
                using var d = DumpFile.Open(path, new DumpOpenOptions { RecoverVmcoreInfo = false });
                var page = new byte[d.PageSize];
                for (ulong p = 0; p < Math.Min(d.MaxPfn, 64UL); p++) d.ReadPage(p, page);
            }
            catch (KdumpException) { }
        }
    }
}
