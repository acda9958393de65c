namespace Kdump.Engine.Linux.Printk;

/// <summary>
/// Something wrong found in one part of the kernel log (one descriptor, one record, a page of the ring):
/// the reader reports it and goes on with the next record.
/// </summary>
/// <param name="ErrorId">PascalCase &lt;Noun&gt;&lt;Condition&gt; id (PrintkDescriptorUnreadable, PrintkDataBlockInvalid ...).</param>
/// <param name="Message">A sentence that names the record (descriptor id or buffer index) and what was wrong.</param>
/// <param name="Target">The offending value: a descriptor id, a buffer index or an address.</param>
public sealed record PrintkWarning(string ErrorId, string Message, object? Target)
{
    public override string ToString() => $"{ErrorId}: {Message}";
}
