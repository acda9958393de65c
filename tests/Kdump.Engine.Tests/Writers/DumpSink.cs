namespace Kdump.Engine.Tests.Writers;

/// <summary>Where a writer puts bytes: a plain (rearranged) file image, or a flattened stream of records.</summary>
public interface IDumpSink
{
    void Write(long offset, ReadOnlySpan<byte> data);
}

/// <summary>A file image in memory; gaps read as zeros.</summary>
public sealed class ImageSink : IDumpSink
{
    private readonly MemoryStream _ms = new();
    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        if (_ms.Length < offset) _ms.SetLength(offset);
        _ms.Position = offset;
        _ms.Write(data);
    }
    public byte[] ToArray() => _ms.ToArray();
    public long Length => _ms.Length;
}

/// <summary>Deterministic page contents for synthetic dumps: every page says which pfn it is.</summary>
public static class SyntheticMemory
{
    public static byte[] Page(ulong pfn, int pageSize = 4096)
    {
        var p = new byte[pageSize];
        var rng = new Random(unchecked((int)(pfn * 2654435761UL)));
        // Half compressible text, half noise, stamped with the pfn at the start.
        var stamp = System.Text.Encoding.ASCII.GetBytes($"PFN {pfn:x8} ");
        for (int i = 0; i < pageSize / 2; i++) p[i] = stamp[i % stamp.Length];
        for (int i = pageSize / 2; i < pageSize; i++) p[i] = (byte)rng.Next(256);
        return p;
    }

    public static string TempPath(string name) =>
        Path.Combine(Path.GetTempPath(), "kdump-tests", $"{Guid.NewGuid():N}-{name}");

    public static string WriteTemp(string name, byte[] bytes)
    {
        var p = TempPath(name);
        Directory.CreateDirectory(Path.GetDirectoryName(p)!);
        File.WriteAllBytes(p, bytes);
        return p;
    }
}
