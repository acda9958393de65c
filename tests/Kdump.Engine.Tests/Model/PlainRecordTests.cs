using Kdump.Engine.Model;
using Kdump.Engine.Program;
using Kdump.Engine.Tests.Vmlinux;
using Kdump.Engine.Types.Dwarf;

namespace Kdump.Engine.Tests.Model;

/// <summary>Issue 10.1 and 12.4: records are plain data, a closed image is never read, one address type.</summary>
public class PlainRecordTests
{
    [Fact]
    public void A_closed_elf_image_throws_VmcoreClosed_instead_of_reading_the_unmapped_view()
    {
        var path = SampleVmlinux.Write(SampleVmlinux.Writer());
        try
        {
            var image = ElfImage.Open(path);
            var data = image.SectionData(".rodata");
            Assert.True(data.Length > 0);
            _ = data.Span[0];
            image.Dispose();
            var ex = Assert.Throws<KdumpException>(() => data.Span[0]);
            Assert.Equal("VmcoreClosed", ex.ErrorId);
            Assert.Equal("VmcoreClosed", Assert.Throws<KdumpException>(() => image.Bytes(0, 16).ToArray()).ErrorId);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Records_name_their_dump_by_identity_not_by_the_live_vmcore()
    {
        foreach (var t in typeof(DumpRecord).Assembly.GetTypes().Where(t => t.IsPublic && typeof(DumpRecord).IsAssignableFrom(t)))
            foreach (var p in t.GetProperties())
                Assert.False(typeof(Vmcore).IsAssignableFrom(p.PropertyType) || p.PropertyType == typeof(KernelObject) || (p.PropertyType.Namespace == "Kdump.Engine.Types" && !p.PropertyType.IsEnum),
                    $"{t.Name}.{p.Name} is a live engine object ({p.PropertyType.Name})");
    }

    [Fact]
    public void WithVmcore_stamps_a_copy_once()
    {
        var id = new VmcoreIdentity(7);
        var p = new CrashProcess { Pid = 1, Task = 0xffff8cda42d53080 };
        var q = (CrashProcess)p.WithVmcore(id);
        Assert.Null(p.Vmcore);
        Assert.Same(id, q.Vmcore);
        Assert.Equal(p.Task, q.Task);
        Assert.Same(q, q.WithVmcore(new VmcoreIdentity(8)));
    }

    [Theory]
    [InlineData("7", 7, null)]
    [InlineData("vmcore.kdump", 0, "vmcore.kdump")]
    [InlineData("/var/crash/127.0.0.1-2024/vmcore", 0, "/var/crash/127.0.0.1-2024/vmcore")]
    public void VmcoreIdentity_reads_an_id_a_name_or_a_path(string text, int id, string? name)
    {
        var v = new VmcoreIdentity(text);
        Assert.Equal(id, v.Id);
        Assert.Equal(name, v.Text);
        Assert.Equal(new VmcoreIdentity(text), v);
    }

    [Fact]
    public void KernelAddress_parses_and_shows_hex()
    {
        KernelAddress a = 0xffff8cda42d53080;
        Assert.Equal("0xffff8cda42d53080", a.ToString());
        Assert.Equal("ffff8cda42d53080", $"{a:x16}");
        Assert.True(a.Equals((object)unchecked((long)0xffff8cda42d53080)));
        Assert.True(a.Equals((object)"ffff8cda42d53080"));
        Assert.True(a.Equals((object)"0xffff8cda42d53080"));
        Assert.Equal(a, KernelAddress.Parse("0xFFFF8CDA42D53080"));
        Assert.Equal(4096UL, KernelAddress.Parse("0n4096").Value);
        Assert.False(KernelAddress.TryParse("0x1ffff8cda42d53080", out _));
        Assert.False(KernelAddress.TryParse("init_task", out _));
        Assert.True(new KernelAddress(0xffffffff81000000) > 0x1000UL);
        Assert.Equal(0xffff8cda42d53088UL, (ulong)(a + 8));
        Assert.Equal(8UL, (a + 8) - a);
    }
}
