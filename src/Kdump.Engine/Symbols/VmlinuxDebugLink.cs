using System.Buffers.Binary;
using System.Text;
using Kdump.Engine.Types.Dwarf;

namespace Kdump.Engine.Symbols;

public sealed partial class VmlinuxFile
{
    /// <summary>
    /// Finds the separate debug file of a stripped image the way GDB does: /usr/lib/debug/.build-id/xx/yyyy.debug,
    /// then .gnu_debuglink's name beside the image, in its .debug/ folder and under the debug directories, then the
    /// distributions' vmlinux paths for the image's release. A candidate must carry DWARF and the same build-id
    /// (or, without build-ids, the debuglink CRC).
    /// </summary>
    private static ElfImage? FindDebugFile(ElfImage image, EngineHost host, IEnumerable<string> debugDirectories)
    {
        var dirs = debugDirectories.Where(d => !string.IsNullOrEmpty(d)).ToArray();
        string? buildId = ReadBuildId(image);
        var (linkName, linkCrc) = ReadDebugLink(image);
        string imageDir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(image.Path)) ?? "/";
        var candidates = new List<string>();
        if (buildId is { Length: > 2 })
            foreach (var d in dirs) candidates.Add(System.IO.Path.Combine(d, ".build-id", buildId[..2], buildId[2..] + ".debug"));
        if (linkName is not null && linkName.IndexOfAny(['/', '\\']) < 0)
        {
            candidates.Add(System.IO.Path.Combine(imageDir, linkName));
            candidates.Add(System.IO.Path.Combine(imageDir, ".debug", linkName));
            foreach (var d in dirs) candidates.Add(System.IO.Path.Combine(d, imageDir.TrimStart('/'), linkName));
        }
        if (ReleaseFromBanner(ReadBanner(image, null).Item1) is { } rel)
            foreach (var d in dirs)
            {
                candidates.Add(System.IO.Path.Combine(d, "boot", "vmlinux-" + rel));
                candidates.Add(System.IO.Path.Combine(d, "lib", "modules", rel, "vmlinux"));
            }
        string self = System.IO.Path.GetFullPath(image.Path);
        foreach (var c in candidates.Distinct())
        {
            if (!File.Exists(c) || System.IO.Path.GetFullPath(c) == self) continue;
            ElfImage? e = null;
            try
            {
                e = ElfImage.Open(c);
                if (!ElfImage.HasData(e.FindSection(".debug_info"))) { e.Dispose(); continue; }
                string? id = ReadBuildId(e);
                bool ok = buildId is not null && id is not null ? id == buildId
                    : linkCrc is { } crc && c.EndsWith(linkName!, StringComparison.Ordinal) && FileCrc32(c, host.Cancellation) == crc;
                if (ok) { host.Verbose($"Using debug file {c} for {image.Path}"); return e; }
                host.Verbose($"Debug file candidate {c} does not belong to {image.Path}");
                e.Dispose();
            }
            catch (Exception ex) when (ex is KdumpException or IOException or UnauthorizedAccessException)
            {
                e?.Dispose();
                host.Verbose($"Debug file candidate {c}: {ex.Message}");
            }
        }
        return null;
    }

    private static (string?, uint?) ReadDebugLink(ElfImage image)
    {
        var s = image.FindSection(".gnu_debuglink");
        if (!ElfImage.HasData(s) || s!.Size > 4096) return (null, null);
        var d = image.SectionData(s).Span;
        int nul = d.IndexOf((byte)0);
        if (nul <= 0) return (null, null);
        string name = Encoding.UTF8.GetString(d[..nul]);
        int crcAt = (nul + 4) & ~3;
        uint? crc = crcAt + 4 <= d.Length ? BinaryPrimitives.ReadUInt32LittleEndian(d[crcAt..]) : null;
        return (name, crc);
    }

    private static uint FileCrc32(string path, CancellationToken cancel)
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xedb88320 ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        uint crc = 0xffffffff;
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var buf = new byte[1 << 20];
        int n;
        while ((n = fs.Read(buf, 0, buf.Length)) > 0)
        {
            cancel.ThrowIfCancellationRequested();
            for (int i = 0; i < n; i++) crc = table[(crc ^ buf[i]) & 0xff] ^ (crc >> 8);
        }
        return ~crc;
    }
}
